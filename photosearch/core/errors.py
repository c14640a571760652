"""Errors a user can cause or fix; the CLI prints them as one line and exits 2."""


class PhotoSearchError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class LibraryBusyError(PhotoSearchError):
    """Another process holds the library's writer lock."""


class Cancelled(PhotoSearchError):
    """The caller's stop hook (should_stop) asked a long read to end before its answer was ready."""
