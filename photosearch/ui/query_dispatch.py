"""Query dispatch for the main window: text and image queries to the search runner, their answers into
the grid, and which page (empty state, hint, results, timeline) shows."""

from __future__ import annotations

import os

from PySide6.QtCore import QItemSelectionModel, Slot

from photosearch.ui.search_options import SearchOptions
from photosearch.ui.worker import ImageQuery

PAGE_EMPTY, PAGE_HINT, PAGE_RESULTS, PAGE_TIMELINE = 0, 1, 2, 3
DOUBLE_QUOTES = '"“”„«»'


def quoted(text: str) -> str:
    """The query as typed, in curly quotes, unless it holds double quotes of its own (a "phrase"):
    a second pair around it would read as “"red car"”. Apostrophes (dog's bed) still get the pair."""
    return text if any(q in text for q in DOUBLE_QUOTES) else f"“{text}”"


def describe_image_query(query: ImageQuery, bar, words: str = "") -> str:
    """"a.jpg", "a.jpg + 2 more, less like 1, with “at night”" for the status line: the Refine words are
    named, since they outlive a ✕ on the first image and join images added later."""
    text = query.label or "the image"
    if bar.more_images:
        text += f" + {len(bar.more_images)} more"
    if bar.minus_images:
        text += f", less like {len(bar.minus_images)}"
    if words:
        text += f", with {quoted(words)}"
    return text


class QueryDispatch:
    """A mixin of MainWindow (plain Python, no signals of its own)."""

    def search_options(self) -> SearchOptions:
        """The chips' filters, plus the words and weight of an image query (issue 11)."""
        options = self.filter_chips.options()
        folder = options.folder or self.folder_filter  # a sidebar click limits the search in the core too
        bar, words = self.search_bar, self.weight_control
        combined = {
            "plus": words.plus(),
            "minus": words.minus(),
            "weight": words.weight(),
            "more_images": tuple(q.source for q in bar.more_images),
            "minus_images": tuple(q.source for q in bar.minus_images),
        }
        return SearchOptions(**{**options.__dict__, "folder": folder, **combined})

    def _on_options_changed(self) -> None:
        self.timeline.loaded_key = None  # filters changed: the timeline reloads when shown
        if self.has_query():
            self.refresh_query(news=True)
        else:
            self._update_page()

    def _load_timeline(self) -> None:
        options = self.search_options()
        library = self.ref.get()
        # Rebuilt when the filters change or a job finishes, not on every batch (it would jump to the top).
        key = (id(library), self.index_version, options.after, options.before, options.folder)
        if self.timeline.loaded_key == key:
            return
        try:
            filters = options.filters()
            fetch = lambda offset, k: self.ref.get().browse(k, offset, filters=filters)  # noqa: E731
            self.timeline.load(fetch, lambda: library.months(filters), key)
        except Exception as exc:  # a library going away mid-switch: say so, keep the window
            self._note(f"cannot browse: {exc}", 8000)

    @Slot(str)
    def run_text_query(self, text: str) -> None:
        self._text_query, self._image_query = text, None
        self._scroll_top = True
        self.refine_bar.hide()
        self.searcher.submit(text=text, k=self._k(), options=self.search_options())
        self._query_note(f"Searching {quoted(text)}…")

    @Slot(object)
    def run_image_query(self, query: ImageQuery) -> None:
        self._image_query, self._text_query = query, ""
        self._scroll_top = True
        self.refine_bar.show()
        self.searcher.submit(image=query, k=self._k(), options=self.search_options())
        what = describe_image_query(query, self.search_bar, self.weight_control.words())
        self._query_note(f"Searching photos like {what}…")

    def set_image_query(self, query: ImageQuery) -> None:
        """Show the chip and search (drop, paste, file dialog, Find similar all come here)."""
        self.search_bar.set_image(query)

    def refresh_query(self, news: bool = False) -> None:
        """Re-run the current query. news: the person changed it (a filter, a folder), so its count is
        news; otherwise (the index, captions or model changed under it) the count may not replace what
        the status bar says about that change ("Imported 2 captions…", "Index updated…")."""
        options = self.search_options()
        if self._image_query is not None:
            self.searcher.submit(image=self._image_query, k=self._k(), options=options)
        elif self._text_query:
            self.searcher.submit(text=self._text_query, k=self._k(), options=options)
        else:
            return
        if not news:
            self._quiet_answer = self.searcher.latest

    def _k(self) -> int:
        # Limited to one folder, ask for more so the folder still fills a page.
        per_page = self.settings.results_per_page
        return per_page * 5 if self.folder_filter else per_page

    def has_query(self) -> bool:
        return bool(self._text_query) or self._image_query is not None

    @Slot(list, list, float)
    def _show_results(self, results: list, captions: list, seconds: float) -> None:
        selected = self.selected_paths(self.grid)
        if self.folder_filter:
            results = [r for r in results if self.in_filter(r.path)][: self.settings.results_per_page]
        by_date = self.search_options().sort == "date"  # issue 11: month headers, as in the timeline
        self.grid.set_sectioned(by_date)
        self.results_model.set_results(results, headers=by_date)
        self.caption_model.set_captions(captions)
        if self._scroll_top:
            self._scroll_top = False
            self.grid.scrollToTop()
        self.caption_panel.set_count(len(captions))
        for path in selected:  # a refresh keeps what the user had picked
            row = self.results_model.row_of(path)
            if row >= 0:
                self.grid.selectionModel().select(
                    self.results_model.index(row), QItemSelectionModel.SelectionFlag.Select
                )
        showing = self.statusBar().currentMessage()
        quiet = self.searcher.delivered == self._quiet_answer and showing not in ("", self._last_query_note)
        if self.has_query() and not self.searcher.failed and not quiet:  # a failure's message stays up
            what = (
                describe_image_query(self._image_query, self.search_bar, self.weight_control.words())
                if self._image_query is not None
                else quoted(self._text_query)
            )
            where = f" in {os.path.basename(self.folder_filter.rstrip(os.sep))}" if self.folder_filter else ""
            self._query_note(f"{len(results)} photos for {what}{where} in {seconds * 1000:.0f} ms", 8000)
        self._update_page()
        self.resultsShown.emit(len(results))

    def _browse_finds_nothing(self) -> bool:
        self._load_timeline()
        return self.timeline.model.empty

    def filter_words(self) -> str:
        """The active filters that can hide photos, as their chips name them ("" with none)."""
        options = self.search_options()
        words = [f"in {os.path.basename(options.folder.rstrip(os.sep))}"] if options.folder else []
        words += [f"From {options.after}"] if options.after else []
        words += [f"To {options.before}"] if options.before else []
        return " · ".join(words)

    def _query_note(self, message: str, timeout: int = 0) -> None:
        """A status line about the query on screen ("Searching…", "N photos for…"): it goes with it."""
        self._last_query_note = message
        self._note(message, timeout)

    def _clear_results(self) -> None:
        self._text_query, self._image_query = "", None
        self.refine_bar.hide()
        self.searcher.latest += 1  # drop any answer still on its way
        self.results_model.set_results([])
        self.caption_model.set_captions([])
        self.caption_panel.set_count(0)  # not the last query's count over an empty panel
        if self.statusBar().currentMessage() == self._last_query_note:  # not over the timeline either
            self.statusBar().clearMessage()
        self._update_page()

    def clear_query(self) -> None:
        self.search_bar.clear()

    def _on_search_failed(self, message: str) -> None:
        self.last_error = message
        self._note(message, 10000)

    def sync_caption_panel(self) -> None:
        """Caption matches belong to a query: with none (browsing, the hint, no folders) the panel's
        width goes to the photos. View ▸ Show caption panel and the window's width have their say too
        (the work area decides)."""
        self.work_area.set_content("captions", self.has_query())

    def _update_page(self) -> None:
        self.sync_caption_panel()
        if not self._folders:
            self.stack.setCurrentIndex(PAGE_EMPTY)
        elif self.results_model.rowCount() > 0:
            self.stack.setCurrentIndex(PAGE_RESULTS)
        elif not self.has_query() and self._indexed_count and not self._browse_finds_nothing():
            self.stack.setCurrentIndex(PAGE_TIMELINE)  # issue 11: an empty box browses the timeline
        else:
            count = f"{self._indexed_count:,} photos" if self._indexed_count else "your photos"
            hidden = self.filter_words()
            if hidden and (self.searcher.idle or not self.has_query()):
                self.hint.setText(f"No photos match the filters: {hidden}.\nRemove a filter to see more.")
            elif self.has_query() and self.searcher.idle:
                self.hint.setText("No matches yet.\nTry other words, or drop a photo to find similar ones.")
            else:
                self.hint.setText(
                    f"Search {count} by describing them\n“dog on a beach”, “receipts”, “red car -toy”\n\n"
                    "or drop a photo anywhere to find similar ones"
                )
            self.stack.setCurrentIndex(PAGE_HINT)

