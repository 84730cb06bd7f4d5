"""The counter page's widgets and style (ui/pages/counter.py is the behaviour): the step row, the
banner, the person / face / device columns and the action buttons. Built once; the page then
only changes their text and state from the counter flow's events."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout,
                               QWidget)

from desktop.counter.flow import STEPS

PAGE_CSS = """
QWidget#counterPage { background: #f4f6f8; }
QLabel#counterBanner { font-size: 15pt; font-weight: bold; padding: 10px 14px; border-radius: 8px;
    background: #e3edf7; color: #1f3a5f; border: 1px solid #b6cde5; }
QLabel#counterBanner[kind="ok"] { background: #e3f4e6; color: #1e5e25; border-color: #a6d8ae; }
QLabel#counterBanner[kind="warn"] { background: #fff4e0; color: #8a4b00; border-color: #fbd38d; }
QLabel#counterBanner[kind="error"] { background: #fde8e8; color: #9b1c1c; border-color: #f8b4b4; }
QLabel#step { padding: 4px 10px; border-radius: 12px; color: #7b8794; background: #e4e7eb; font-size: 11pt; }
QLabel#step[active="true"] { background: #2d5282; color: #ffffff; font-weight: bold; }
QLabel#step[past="true"] { background: #c6dbef; color: #1f3a5f; }
QLabel#devOk { color: #1e5e25; font-weight: bold; }
QLabel#devBad { color: #b23c17; font-weight: bold; }
QLabel#warnBox { background: #fff4e0; color: #8a4b00; border: 1px solid #fbd38d; border-radius: 6px; padding: 8px 12px; }
QLabel#resumeBox { background: #e3f4e6; color: #1e5e25; border: 2px solid #4caf50; border-radius: 8px;
    padding: 10px 14px; font-size: 14pt; font-weight: bold; }
QLabel#formsBox { background: #eef2ff; color: #283593; border: 1px solid #c5cae9; border-radius: 6px; padding: 8px 12px; }
QLabel#helperBox { background: #f3e8ff; color: #5b21b6; border: 1px solid #d8b4fe; border-radius: 6px; padding: 8px 12px; }
QFrame#todayBox, QFrame#faceBox { background: #ffffff; border: 1px solid #d9e2ec; border-radius: 8px; }
QLabel#todayBig { font-size: 24pt; font-weight: bold; color: #1f3a5f; }
QLabel#resultPass { font-size: 14pt; font-weight: bold; color: #1e5e25; }
QLabel#resultFail { font-size: 14pt; font-weight: bold; color: #b23c17; }
QLabel#faceprompt { font-size: 13pt; font-weight: bold; color: #1f3a5f; }
QLabel#faceDetails { font-size: 10pt; color: #52606d; background: #f4f6f8; padding: 4px; }
QFrame#faceBox QPushButton { font-size: 11pt; padding: 4px 8px; }
QFrame#faceBox QListWidget { font-size: 11pt; }
QPushButton { font-size: 12pt; padding: 6px 12px; }
QPushButton#primaryButton { background: #2d5282; color: #ffffff; border-color: #2d5282; font-size: 15pt; padding: 10px 20px; }
QLabel#sideTitle { font-size: 13pt; font-weight: bold; color: #1f3a5f; }
QLabel#deviceLine { font-size: 11pt; }
QPushButton#primaryButton:disabled { background: #a0aec0; border-color: #a0aec0; }
"""


def build(page) -> None:  # noqa: PLR0915 - a layout, top to bottom
    """Create the page's widgets as attributes of ``page`` (its slots must exist)."""
    from ui.widgets.counter_side import CounterSidePanel
    from ui.widgets.flow import FlowRow

    title = QLabel("现场认证", page)
    title.setObjectName("pageTitle")
    page.step_labels = []
    head = FlowRow(page, spacing=6)
    head.add(title)
    for _, text in STEPS:
        lab = QLabel(text, page)
        lab.setObjectName("step")
        page.step_labels.append(lab)
        head.add(lab)

    page.banner = QLabel("", page)
    page.banner.setObjectName("counterBanner")
    page.banner.setWordWrap(True)
    page.banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    # person column
    page.person_box = QWidget(page)
    pv = QVBoxLayout(page.person_box)
    pv.setContentsMargins(0, 0, 6, 0)
    pv.setSpacing(8)
    page.name_label = QLabel("", page.person_box)
    page.name_label.setObjectName("personName")
    page.name_label.setWordWrap(True)
    page.name_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    page.id_label = QLabel("", page.person_box)
    page.id_label.setObjectName("personId")
    page.card_source = QLabel("", page.person_box)
    page.card_source.setObjectName("muted")
    top = FlowRow(page.person_box, spacing=10)
    top.add(page.id_label, page.card_source)
    pv.addWidget(page.name_label)
    pv.addWidget(top)
    page.warn_label = QLabel("", page.person_box)
    page.warn_label.setObjectName("warnBox")
    page.warn_label.setWordWrap(True)
    page.resume_label = QLabel("", page.person_box)
    page.resume_label.setObjectName("resumeBox")
    page.resume_label.setWordWrap(True)
    page.forms_label = QLabel("", page.person_box)
    page.forms_label.setObjectName("formsBox")
    page.forms_label.setWordWrap(True)
    page.helper_label = QLabel("", page.person_box)
    page.helper_label.setObjectName("helperBox")
    page.helper_label.setWordWrap(True)
    for w in (page.warn_label, page.resume_label, page.forms_label, page.helper_label):
        w.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        w.hide()
        pv.addWidget(w)
    page.cards_layout = QVBoxLayout()
    page.cards_layout.setSpacing(8)
    pv.addLayout(page.cards_layout)
    pv.addStretch(1)
    scroll = QScrollArea(page)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(page.person_box)
    scroll.setMinimumWidth(260)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # the columns that scroll ask for no height of their own: the page (in its own scroll area,
    # which sizes it by its preferred height) then fits the screen, and these scroll instead
    scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
    page.person_scroll = scroll

    # face column
    page.face_box = QFrame(page)
    page.face_box.setObjectName("faceBox")
    page.face_box.setMinimumWidth(280)
    page.face_layout = QVBoxLayout(page.face_box)
    page.face_layout.setContentsMargins(8, 8, 8, 8)
    page.face_result = QLabel("", page.face_box)
    page.face_result.setWordWrap(True)
    page.face_result.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    page.face_layout.addWidget(page.face_result)
    page.face_layout.addStretch(1)

    # right column: operator, devices, today's figures
    page.side = CounterSidePanel(page)
    page.today_box = page.side
    page.operator_label = page.side.operator_label
    page.today_count = page.side.today_count
    page.today_detail = page.side.today_detail

    body = QHBoxLayout()
    body.setSpacing(10)
    body.addWidget(scroll, 4)
    body.addWidget(page.face_box, 4)
    side_scroll = QScrollArea(page)  # the figures may grow; they scroll, the page does not
    side_scroll.setWidgetResizable(True)
    side_scroll.setFrameShape(QFrame.Shape.NoFrame)
    side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    side_scroll.setWidget(page.side)
    side_scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
    bar = side_scroll.verticalScrollBar().sizeHint().width()  # room for it: nothing is cut at the right
    side_scroll.setMinimumWidth(page.side.minimumWidth() + bar)
    side_scroll.setMaximumWidth(page.side.maximumWidth() + bar)
    body.addWidget(side_scroll, 2)

    # actions: the secondary ones wrap onto a second line on a narrow screen, the main button
    # stays at the right, under the clerk's hand
    def button(text, slot, primary=False):
        b = QPushButton(text, page)
        if primary:
            b.setObjectName("primaryButton")
        b.clicked.connect(slot)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return b

    page.primary_button = button("请放置身份证", page.primary_action, True)
    page.manual_button = button("手工录入 F4", page.open_manual_entry)
    page.helper_button = button("代办人 F6", page.open_helper)
    page.attest_button = button("人工核验 F9", page.open_attestation)
    page.enrol_button = button("采集参考照片 F7", page.open_enrolment)
    page.note_button = button("登记来访", page.note_not_on_roster)
    page.print_button = button("打印回执 Ctrl+P", page.open_receipt)
    page.next_button = button("下一位 F12", page.next_resident)
    page.detail_button = button("人员详情", lambda: page.lookup and page.lookup.person
                                and page.person_requested.emit(page.lookup.person.id))
    page.actions_row = FlowRow(page, spacing=8)
    # the resident screen's language for this resident (remembered for the next visit)
    page.language_button = button("蒙古语 F8", lambda: page._language_chosen(page.language_button.isChecked()))
    page.language_button.setCheckable(True)
    page.language_button.setObjectName("languageButton")
    page.language_button.setToolTip("居民屏幕同时用传统蒙古文显示提示（有蒙古语录音时播放蒙古语）；为该居民记住")
    page.actions_row.add(page.manual_button, page.helper_button, page.enrol_button, page.attest_button,
                         page.language_button, page.detail_button, page.next_button, page.print_button)
    page.note_button.hide()  # 登记来访 is the main button's job when the card is not on the roster
    actions = QHBoxLayout()
    actions.setSpacing(10)
    actions.addWidget(page.actions_row, 1)
    actions.addWidget(page.primary_button, 0, Qt.AlignmentFlag.AlignBottom)

    # below this the page scrolls (its scroll area in the main window) instead of squeezing the
    # face column: 1024×768 and 1280×720 (1920×1080 at 150 %) leave about 660-710 pixels
    page.setMinimumHeight(600)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(16, 10, 16, 10)
    layout.setSpacing(8)
    layout.addWidget(head)
    layout.addWidget(page.banner)
    layout.addLayout(body, 1)
    layout.addLayout(actions)

    for key, slot in (("Return", page.primary_action), ("Enter", page.primary_action), ("F4", page.open_manual_entry),
                      ("F8", page._toggle_language), ("F6", page.open_helper), ("F7", page.open_enrolment),
                      ("F9", page.open_attestation), ("F12", page.next_resident),
                      ("Ctrl+P", page.open_receipt)):  # Ctrl+L (lock) is the window's
        sc = QShortcut(QKeySequence(key), page)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(slot)
