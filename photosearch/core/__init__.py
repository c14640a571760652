"""PhotoSearch's Qt-free core: scanning, indexing, storage and search. Front ends use `Library`."""
