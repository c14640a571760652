"""How the main window is put together: the top bar with chips and weight, the folder sidebar, the
stacked centre (empty state, hint, grid, timeline), the caption panel, the status bar and shortcuts."""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from photosearch.ui.caption_panel import CaptionPanel
from photosearch.ui.duplicates_view import duplicates_button
from photosearch.ui.empty_state import EmptyState
from photosearch.ui.grid import ResultsGrid
from photosearch.ui.grid_actions import connect_photo_view
from photosearch.ui.menus import build_menus
from photosearch.ui.moved_notice import MovedNotice
from photosearch.ui.search_options import FilterChips, WeightControl
from photosearch.ui.sidebar import FolderSidebar
from photosearch.ui.skipped_files import open_skipped
from photosearch.ui.status_panel import StatusPanel
from photosearch.ui.timeline import TimelinePanel
from photosearch.ui.top_bar import TopBar
from photosearch.ui.work_area import WorkArea

if TYPE_CHECKING:
    from photosearch.ui.main_window import MainWindow


def build_ui(window: MainWindow) -> None:
    """Create the window's widgets and connect them to its slots."""
    top = TopBar(window.settings.thumb_size)
    window.top_bar = top
    window.search_bar, window.image_button, window.size_slider = top.search_bar, top.image_button, top.size_slider
    window.search_bar.textSearch.connect(window.run_text_query)
    window.search_bar.imageSearch.connect(window.run_image_query)
    window.search_bar.cleared.connect(window._clear_results)
    window.search_bar.pasteRequested.connect(window.paste_query)
    window.search_bar.moveToResults.connect(window._focus_grid)
    window.image_button.clicked.connect(window.choose_query_image)
    window.size_slider.valueChanged.connect(window._set_tile_size)
    top.settings_button.clicked.connect(lambda: window.open_settings())
    # issue 11: filter chips, and words + weight for image queries (shown while one is on)
    window.filter_chips = FilterChips()
    window.filter_chips.changed.connect(window._on_options_changed)
    window.weight_control = WeightControl()
    window.weight_control.changed.connect(window._on_options_changed)
    window.search_bar.imageQueryReset.connect(window.weight_control.reset)
    top.layout().insertWidget(1, window.filter_chips)
    # A second row while an image query is on: its further and taken-away images, then words + weight.
    window.refine_bar = QFrame()
    window.refine_bar.setObjectName("refineBar")
    refine = QHBoxLayout(window.refine_bar)
    refine.setContentsMargins(12, 0, 12, 8)
    refine.setSpacing(8)
    hint = QLabel("Refine:")
    hint.setToolTip("Ctrl-drop more photos to add them; right-click a result for More / Less like this")
    refine.addWidget(hint)
    refine.addWidget(window.search_bar.extra_box)
    refine.addWidget(window.weight_control, 1)
    window.refine_bar.hide()
    window.duplicates_button = duplicates_button(window)
    top.layout().insertWidget(top.layout().indexOf(top.settings_button), window.duplicates_button)

    # Sidebar: watched folders.
    sidebar = FolderSidebar()
    sidebar.addRequested.connect(window.choose_folder)
    sidebar.removeRequested.connect(window._confirm_remove_folder)
    sidebar.filterChanged.connect(window._on_folder_filter)
    sidebar.rescanRequested.connect(window.rescan_folder)
    sidebar.revealRequested.connect(window.open_folder)
    window.sidebar = sidebar
    window.folder_list, window.remove_button = sidebar.folder_list, sidebar.remove_button

    # Centre: empty state / hint / grid.
    window.grid = ResultsGrid(window.settings.thumb_size)
    window.tile_delegate = window.grid.tile_delegate
    window.grid.setModel(window.results_model)
    connect_photo_view(window, window.grid)
    window._set_tile_size(window.settings.thumb_size)

    window.hint = QLabel()
    window.hint.setObjectName("hint")
    window.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
    window.hint.setWordWrap(True)
    window.empty_state = EmptyState()
    window.empty_state.addFolder.connect(window.add_folder)
    window.empty_state.chooseFolder.connect(window.choose_folder)
    window.stack = QStackedWidget()
    window.stack.addWidget(window.empty_state)
    window.stack.addWidget(window.hint)
    window.stack.addWidget(window.grid)
    window.timeline = TimelinePanel(window.thumbs, window.settings.thumb_size)  # issue 11: browse with no query
    connect_photo_view(window, window.timeline.view)  # the grid's menu, keys and preview
    window.timeline.failed.connect(lambda message: window._note(f"cannot browse: {message}", 8000))
    window.timeline.model.emptied.connect(window._update_page)  # the filters hide every photo: say so
    window.stack.addWidget(window.timeline)

    # Right: caption matches.
    captions_panel = CaptionPanel(window.caption_model)
    window.caption_panel = captions_panel
    window.caption_heading, window.caption_view = captions_panel.heading, captions_panel.view
    # A caption someone picked, not the one Qt makes current when focus arrives (that one is not selected):
    # following it scrolled the grid away and replaced the result count whenever a dialog closed.
    window.caption_view.selectionModel().selectionChanged.connect(window._caption_selected)
    window.caption_view.doubleClicked.connect(window._caption_activated)

    centre = QWidget()
    centre_layout = QVBoxLayout(centre)
    centre_layout.setContentsMargins(0, 0, 0, 0)
    centre_layout.setSpacing(0)
    filter_row = QHBoxLayout()
    filter_row.setContentsMargins(10, 4, 10, 0)
    window.filter_label = QLabel()
    window.filter_label.setObjectName("filterLabel")
    window.filter_clear = QPushButton("Show all folders")
    window.filter_clear.clicked.connect(window.show_all_folders)
    filter_row.addWidget(window.filter_label)
    filter_row.addWidget(window.filter_clear)
    filter_row.addStretch(1)
    window.filter_label.hide()
    window.filter_clear.hide()
    # A watched folder found renamed or moved: said over the results, with the sidebar's Remove as its action.
    window.moved_notice = MovedNotice()
    window.moved_notice.removeRequested.connect(window._confirm_remove_folder)
    centre_layout.addWidget(window.moved_notice)
    centre_layout.addLayout(filter_row)
    centre_layout.addWidget(window.stack, 1)
    # The photos keep room for a tile; the caption panel, then the sidebar, give way in a small window.
    # Two columns of photos come before the panels' full widths.
    window.work_area = WorkArea(sidebar, centre, captions_panel, lambda: window.grid.width_for_columns(2))
    window.work_area.message.connect(lambda text: window._note(text, 8000))

    central = QWidget()
    central.setObjectName("central")
    layout = QVBoxLayout(central)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(top)
    layout.addWidget(window.refine_bar)
    layout.addWidget(window.work_area, 1)
    window.setCentralWidget(central)

    # Status bar: progress + controls, device, count.
    window.status_panel = StatusPanel(window.statusBar())
    window.status_panel.pauseToggled.connect(window._toggle_pause)
    window.status_panel.cancelRequested.connect(window.cancel_indexing)
    window.progress, window.pause_button = window.status_panel.progress, window.status_panel.pause_button
    window.cancel_button = window.status_panel.cancel_button
    window.device_label, window.count_label = window.status_panel.device_label, window.status_panel.count_label
    window.status_panel.resumeRequested.connect(window._index)
    window.status_panel.skippedRequested.connect(lambda: open_skipped(window))
    window.menu_actions = build_menus(window)
    window.work_area.bind_actions(window.menu_actions["folders"], window.menu_actions["captions"])
    set_tab_order(window)
    window._update_page()


def tab_chain(window: MainWindow) -> list[QWidget]:
    """The controls in reading order: the top bar left to right (the query's image chips follow the search
    box, filter chips the Filters button: both put themselves there), the Refine row, the sidebar, the
    page in the centre (a moved folder's notice first), the caption panel, the status bar's buttons."""
    top, sidebar, status = window.top_bar, window.sidebar, window.status_panel
    return [
        window.search_bar.edit,
        window.search_bar.chip,
        window.filter_chips.menu_button,
        window.image_button,
        window.size_slider,
        window.duplicates_button,
        top.settings_button,
        window.weight_control.plus_edit,
        window.weight_control.slider,
        sidebar.folder_list,
        sidebar.add_button,
        sidebar.remove_button,
        window.moved_notice.remove_button,
        window.moved_notice.dismiss_button,
        window.filter_clear,
        window.empty_state.pictures_button,
        window.empty_state.choose_button,
        window.grid,
        window.timeline.view,
        window.caption_view,
        status.pause_button,
        status.cancel_button,
        status.resume_button,
        status.skipped_button,
    ]


def set_tab_order(window: MainWindow) -> None:
    """Qt's default order is the order widgets were made in, which put Filters and Duplicates after the
    gear and the filter chips after the caption panel (Tab from the search box reached them last)."""
    chain = tab_chain(window)
    for first, second in pairwise(chain):
        QWidget.setTabOrder(first, second)


def build_shortcuts(window: MainWindow) -> None:
    """Find, Open, Esc, Paste and Refresh."""
    QShortcut(QKeySequence.StandardKey.Find, window, window.focus_search)
    QShortcut(QKeySequence.StandardKey.Open, window, window.choose_query_image)
    QShortcut(QKeySequence(Qt.Key.Key_Escape), window, window.clear_query)
    paste = QShortcut(QKeySequence.StandardKey.Paste, window, window.paste_query)
    paste.setContext(Qt.ShortcutContext.WindowShortcut)
    refresh = QAction("Re-index", window)
    refresh.setShortcut(QKeySequence.StandardKey.Refresh)
    refresh.triggered.connect(window._index)
    window.addAction(refresh)
