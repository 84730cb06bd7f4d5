"""导入名单: the column-mapping dialog (issue 21 §1–§2).

Shows the first rows of the chosen file under its header, with a drop-down per column saying
which field it feeds (recognised synonyms and a matching saved source profile pre-selected;
required fields marked ＊). Nothing is written until 确认导入; the mapping can be saved as a
source profile under a name, so the same kind of file imports the same way next time — here
(offered automatically) and with ``certdesk roster import FILE --profile NAME``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from desktop.domain.idnumber import mask_if_id
from ui.pages.bureau_common import error_text
from ui.workers import run_in_background
from ui.screen_fit import fit_to_screen

KIND_TITLE = {"roster": "导入待遇人员名册", "results": "导入认证结果或死亡名单"}
SKIP = "（不导入）"


class ImportDialog(QDialog):
    loaded = Signal()  # the preview is shown (tests wait on it)
    finished_import = Signal(object)  # the ImportReport, or the exception

    def __init__(self, imports, profiles, actor, path: Path, kind: str, *, today=None, parent=None):
        super().__init__(parent)
        self.profile_service = profiles  # desktop.services.profiles.ProfileService
        self.imports, self.actor, self.path, self.kind, self.today = imports, actor, Path(path), kind, today
        self.preview = None
        self.fields: list[str] = []
        self.required: list[str] = []
        self.profiles: list = []
        self.report = None
        self.setWindowTitle(KIND_TITLE[kind])
        self.setMinimumWidth(760)

        self.file_label = QLabel(f"文件：{self.path.name}", self)
        self.header_label = QLabel("正在读取文件…", self)
        self.header_label.setWordWrap(True)
        self.profile = QComboBox(self)
        self.profile.setObjectName("profileCombo")
        self.profile.addItem("不使用来源方案", None)
        self.profile.currentIndexChanged.connect(self._apply_profile)
        self.table = QTableWidget(self)
        self.table.setObjectName("previewTable")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.combos: list[QComboBox] = []
        self.missing_label = QLabel("", self)
        self.missing_label.setObjectName("hint")
        self.missing_label.setWordWrap(True)
        self.save_profile = QCheckBox("保存为来源方案：", self)
        self.save_profile.setObjectName("saveProfile")
        self.profile_name = QLineEdit(self)
        self.profile_name.setObjectName("profileName")
        self.profile_name.setPlaceholderText("如：省系统花名册")
        self.profile_name.setMaxLength(32)
        self.result = QLabel("", self)
        self.result.setObjectName("importResult")
        self.result.setWordWrap(True)
        self.confirm = QPushButton("确认导入", self)
        self.confirm.setObjectName("primaryButton")
        self.confirm.setEnabled(False)
        self.confirm.clicked.connect(self.run_import)
        self.close_button = QPushButton("取消", self)
        self.close_button.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.file_label, 1)
        top.addWidget(QLabel("来源方案：", self))
        top.addWidget(self.profile)
        save = QHBoxLayout()
        save.addWidget(self.save_profile)
        save.addWidget(self.profile_name, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.result, 1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.confirm)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.header_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.missing_label)
        layout.addLayout(save)
        layout.addLayout(buttons)
        # the preview's rows are what the clerk checks: as much of the screen as it allows
        fit_to_screen(self, (1100, 680), centre=False)
        self.load()

    # --- loading -----------------------------------------------------------------------------------

    def load(self) -> None:
        path, kind, saved = self.path, self.kind, self.profile_service

        def work():
            from desktop.formats.import_mapping import preview
            from desktop.services.profiles import kind_fields

            pv = preview(path)
            profiles = saved.list(kind)
            match = saved.matching(kind, pv.header)
            return pv, kind_fields(kind), profiles, match

        run_in_background(work, self._loaded, self._failed, owner=self)

    def _loaded(self, result) -> None:
        self.preview, (self.required, optional), self.profiles, match = result
        self.fields = self.required + [f for f in optional if f not in self.required]
        pv = self.preview
        self.header_label.setText(f"表头在第 {pv.header_line} 行；下面是前 {len(pv.rows)} 行。请核对每一列对应的项目"
                                  "（＊为必需），确认后才写入。")
        self.table.setColumnCount(len(pv.header))
        self.table.setRowCount(len(pv.rows) + 1)
        self.combos = []
        for c, h in enumerate(pv.header):
            self.table.setHorizontalHeaderItem(c, QTableWidgetItem(h or f"（第{c + 1}列）"))
            combo = QComboBox(self.table)
            combo.addItem(SKIP, "")
            for f in self.fields:
                combo.addItem(f"＊{f}" if f in self.required else f, f)
            combo.currentIndexChanged.connect(self._check)
            self.table.setCellWidget(0, c, combo)
            self.combos.append(combo)
            for r, (_, cells) in enumerate(pv.rows, start=1):
                # an ID number is shown masked, as in every list (the column's shape is what is checked)
                self.table.setItem(r, c, QTableWidgetItem(mask_if_id(cells[c]) if c < len(cells) else ""))
        self.table.setVerticalHeaderLabels(["对应"] + [str(line) for line, _ in pv.rows])
        self.table.resizeColumnsToContents()
        for p in self.profiles:
            self.profile.addItem(p.name, p.name)
        self._set_mapping({h: f for h, f in pv.guess.items() if f in self.fields})
        if match is not None:
            self.profile.setCurrentIndex(self.profile.findData(match.name))  # applies it
        self._check()
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.header_label.setText(f"无法读取文件：{error_text(exc)}")
        self.result.setText("")
        self.finished_import.emit(exc)
        self.loaded.emit()

    # --- the mapping -------------------------------------------------------------------------------

    def _set_mapping(self, columns: dict[str, str]) -> None:
        from desktop.formats.import_mapping import normalize

        wanted = {normalize(s): t for s, t in columns.items()}
        for h, combo in zip(self.preview.header, self.combos):
            target = wanted.get(normalize(h))
            if target is None:
                continue
            i = combo.findData(target)
            combo.setCurrentIndex(i if i >= 0 else 0)

    def _apply_profile(self) -> None:
        name = self.profile.currentData()
        if not name or self.preview is None:
            return
        p = next((p for p in self.profiles if p.name == name), None)
        if p is not None:
            self._set_mapping(p.columns)
            self.profile_name.setText(p.name)

    def mapping(self) -> dict[str, str]:
        """{source header: field} as chosen ("" leaves a column out)."""
        return {h: combo.currentData() or "" for h, combo in zip(self.preview.header, self.combos) if h}

    def _check(self) -> None:
        chosen = [c.currentData() for c in self.combos]
        twice = sorted({f for f in chosen if f and chosen.count(f) > 1})
        missing = [f for f in self.required if f not in chosen]
        if self.kind == "results" and not any(f in chosen for f in ("认证日期", "死亡日期", "注销日期")):
            missing.append("认证日期或死亡日期")
        text = []
        if missing:
            text.append("缺少必需的列：" + "、".join(missing))
        if twice:
            text.append("同一项目选了两列：" + "、".join(twice))
        self.missing_label.setText("；".join(text))
        self.confirm.setEnabled(self.preview is not None and not missing and not twice and self.report is None)

    # --- import ------------------------------------------------------------------------------------

    def run_import(self) -> None:
        mapping = self.mapping()
        save = self.profile_name.text().strip() if self.save_profile.isChecked() else ""
        if self.save_profile.isChecked() and not save:
            self.result.setText("请填写来源方案的名称（或不勾选保存）")
            return
        imports, actor, path, kind, today, header = (self.imports, self.actor, self.path, self.kind, self.today,
                                                     self.preview.header)
        saved = self.profile_service
        self.confirm.setEnabled(False)
        self.result.setText("正在导入…")

        def work():
            if save:
                saved.save(save, kind, mapping, header, actor)
            run = imports.import_roster if kind == "roster" else imports.import_results
            return run(path, actor, today=today, mapping=mapping)

        run_in_background(work, self._imported, self._import_failed, owner=self)

    def _imported(self, report) -> None:
        self.report = report
        doc = report.as_json()
        parts = [f"新增 {doc['imported']}", f"更新 {doc['updated']}", f"未变 {doc['unchanged']}",
                 f"拒绝 {len(doc['rejected'])}"]
        if doc.get("review"):
            parts.append(f"待核查 {len(doc['review'])}")
        lines = [f"第{r['line']}行：{r['reason']}" for r in doc["rejected"][:5]]
        self.result.setText("导入完成：" + "，".join(parts) + ("\n" + "\n".join(lines) if lines else ""))
        self.close_button.setText("关闭")
        self.finished_import.emit(report)

    def _import_failed(self, exc: BaseException) -> None:
        self.result.setText(f"导入失败，未写入任何数据：{error_text(exc)}")
        self._check()
        self.finished_import.emit(exc)


def open_import(parent: QWidget, imports, profiles, actor, kind: str, *, today=None) -> ImportDialog | None:
    """Ask for a file, then show the mapping dialog for it (None when cancelled)."""
    from PySide6.QtWidgets import QFileDialog

    path, _ = QFileDialog.getOpenFileName(parent, KIND_TITLE[kind], str(Path.home()),
                                          "表格文件 (*.xls *.xlsx *.xlsm *.ods *.csv *.txt);;所有文件 (*)")
    if not path:
        return None
    dialog = ImportDialog(imports, profiles, actor, Path(path), kind, today=today, parent=parent)
    dialog.open()
    return dialog
