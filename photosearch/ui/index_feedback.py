"""How the window shows the indexing worker's news: model ready, progress, jobs done or failed, counts.

A mixin of MainWindow (plain Python), kept apart so the window stays readable.
"""

from __future__ import annotations

from photosearch.core.types import IndexSummary, Progress
from photosearch.ui.messages import in_gui_words
from photosearch.ui.skipped_files import refresh_skipped


class IndexFeedback:
    def _on_model_ready(self, device: str, description: str) -> None:
        self.device_label.setText((device or "cpu").upper())
        self.device_label.setToolTip(description)
        self._note(f"Model ready: {description}", 5000)
        if self.has_query():
            self.refresh_query()

    def _on_progress(self, progress: Progress) -> None:
        self.status_panel.show_progress(progress)

    def _on_job_finished(self, job: str, summary: IndexSummary) -> None:
        self.jobs_done += 1
        if job != "text":  # text read changes nothing the timeline shows: no reload (it would jump to the top)
            self.index_version += 1
        if job == "text" or not self.worker.text_pass_active:
            self.status_panel.hide_progress()
        # else: a job the text pass stepped aside for; the pass resumes, its bar (and Pause) stay up
        if job == "remove":
            self._note("Folder removed: its photos left the index; the files are untouched", 8000)
        if job != "text":  # reading text skips no files
            refresh_skipped(self)  # an open list of skipped files follows what this run found
        if summary.moved_folders:  # said once each; removing the old folder is the person's choice
            self.sidebar.set_moved(summary.moved_folders)
            self.moved_notice.offer(summary.moved_folders)
        if summary.cancelled and job == "text":
            self.status_panel.show_cancelled(1, reading_text=True)  # as below
            self._note(
                "Reading text cancelled; text read so far stays searchable. Resume reading text carries on.", 8000
            )
        elif summary.cancelled:
            self.status_panel.show_cancelled(1)  # hidden again once the status says nothing is left
            self._note("Indexing cancelled; photos indexed so far stay searchable. Resume indexing carries on.", 8000)
        elif job in ("index", "changes", "switch") and (summary.added or summary.updated or summary.removed):
            then = "; now reading the text in photos" if self.worker.text_pass_active else ""
            self._note(
                f"Index updated: {summary.added} added, {summary.updated} updated, {summary.removed} removed{then}",
                8000,
            )
        elif job == "index" and self.statusBar().currentMessage().startswith("Adding "):
            self.statusBar().clearMessage()  # a folder with nothing new in it: the add is done all the same
        self.refresh_query()

    def _on_busy(self, message: str) -> None:
        self._note(f"{message} (retrying shortly)")

    def _on_failed(self, message: str) -> None:
        self.last_error = in_gui_words(message)
        self.status_panel.hide_progress()  # a failed job never leaves a frozen "Indexing 0 / N"
        self._note(self.last_error, 15000)

    def _on_status(self, status: dict) -> None:
        self.last_status = status
        photos = status.get("photos", {})
        self._indexed_count = int(photos.get("indexed", 0))
        text = f"{self._indexed_count:,} photos"
        pending = int(photos.get("pending", 0))
        unread = int(status.get("ocr", {}).get("pending", 0)) if self.worker.read_text else 0
        if not pending and not unread:
            self.status_panel.resume_button.hide()
        if pending:
            text += f" · {pending:,} to index"
        self.count_label.setText(text)
        self.status_panel.show_skipped(int(photos.get("skipped", 0)))
        self.sidebar.set_summary(text)
        if status.get("device") and self.ref.get().model_loaded:
            self.device_label.setText(str(status["device"]).upper())
        self._update_page()

    def _on_library_replaced(self, model_id: str) -> None:
        self.thumbs.clear()
        self._note(f"Now searching with {model_id}", 8000)
        self.refresh_query()

    def _toggle_pause(self, paused: bool) -> None:
        if paused:
            self.worker.pause_event.set()  # read by the indexer between batches
        else:
            self.worker.pause_event.clear()

    def cancel_indexing(self) -> None:
        self.worker.request_cancel()
        self.worker.pause_event.clear()
