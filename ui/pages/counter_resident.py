"""The counter page's resident side: the resident screen (prompts, placement, sound) and the
resident's language (蒙古语 F8, remembered per person). A mixin of :class:`ui.pages.counter.CounterPage`;
the prompts themselves come from the counter flow's events."""

from __future__ import annotations

from ui.workers import run_in_background


class ResidentSide:
    """Needs from the page: ``side``, ``language_button``, ``panel``, ``backend``, ``lookup``, ``state``."""

    resident_screen = None
    resident_language = "zh"  # the resident screen's language for the resident at the counter
    _prompt_before_lock = None

    def set_resident_screen(self, screen) -> None:
        """The resident screen, built after the window is usable (see ``ui.app.start_counter``)."""
        self.resident_screen = screen
        if self.panel is not None:
            self.panel.set_resident_screen(screen)
        self.show_resident_state(screen)
        if screen is not None:
            screen.placement_changed.connect(lambda _p: self.show_resident_state(screen))
            screen.speaker.state_changed.connect(lambda: self.show_resident_state(screen))
        if screen is not None and self.state == "idle":
            self._resident_prompt("idle")

    def dock_resident_screen(self, screen) -> None:
        """A single monitor: the resident screen becomes a preview in the right-hand column
        instead of a window covering the counter."""
        self.side.dock(screen)

    def show_resident_state(self, screen, *, enabled: bool = True) -> None:
        """The device column's 居民屏幕 and 语音提示 lines: is it showing, where, and is there sound."""
        from ui.resident_screen import PLACEMENT_ZH, SPEECH_ZH

        if screen is None:
            why = "已在设置中关闭（设置 → 设备）" if not enabled else "居民屏幕未能启动"
            self.side.set_device("resident", False, "未开启" if not enabled else "未启动", why)
            self.side.set_device("sound", False, "无", why)
            return
        ok, text, detail = PLACEMENT_ZH[screen.placement]
        self.side.set_device("resident", ok, text, detail)
        if screen.placement != "docked":
            self.side.undock()
        speaker = screen.speaker
        ok, text, detail = SPEECH_ZH[speaker.mode]
        self.side.set_device("sound", ok, text, speaker.problem_zh or detail)

    def _resident_prompt(self, code: str, text: str | None = None, *, speak: bool = True) -> None:
        """Show (and say) one of the counter's prompts (desktop.prompts: the text, the recording
        and every translation share the code); ``text`` when the screen says more than the
        recording (a month)."""
        from desktop.prompts import COUNTER_PROMPTS_ZH, SILENT

        if self.resident_screen is not None:
            self.resident_screen.show_prompt(code, text or COUNTER_PROMPTS_ZH[code],
                                             speak=speak and code not in SILENT)

    def _lock_resident_screen(self, locked: bool) -> None:
        """Locked: nothing of the last resident on their screen; unlocked: back where it was."""
        screen = self.resident_screen
        if locked:
            if screen is not None:
                self._prompt_before_lock = (screen.prompt_code, screen.prompt_text)
            self._resident_prompt("please_wait", speak=False)
        elif screen is not None and self._prompt_before_lock:
            code, text = self._prompt_before_lock
            self._prompt_before_lock = None
            screen.show_prompt(code, text, speak=False)

    # --- the resident's language -------------------------------------------------------------

    def _toggle_language(self) -> None:
        if self.language_button.isEnabled():
            self.language_button.setChecked(not self.language_button.isChecked())
            self._language_chosen(self.language_button.isChecked())

    def _language_chosen(self, mongolian: bool) -> None:
        """The clerk chose (F8) the resident's language: shown now, remembered for a person on the roster."""
        language = "mn" if mongolian else "zh"
        self.set_resident_language(language)
        person = self.lookup.person if self.lookup is not None and self.lookup.found else None
        services = self.backend.services if self.backend is not None else None
        if person is not None and services is not None:
            prefs, pid = services.resident_languages, person.id
            run_in_background(lambda: prefs.set(pid, language), lambda _: None, self._failed, owner=self)

    def set_resident_language(self, language: str, *, say_again: bool = True) -> None:
        """Show the resident screen in ``language`` ("zh" or "mn") for the resident now at the counter
        (the prompt on screen said again in it, unless ``say_again`` is False)."""
        self.resident_language = language
        self.language_button.blockSignals(True)
        self.language_button.setChecked(language == "mn")
        self.language_button.blockSignals(False)
        screen = self.resident_screen
        if screen is not None and hasattr(screen, "set_language"):
            screen.set_language(language, say_again=say_again)

    def _remembered_language(self, person_id: str) -> None:
        """On the roster: the language this person chose last time."""
        services = self.backend.services if self.backend is not None else None
        if services is None:
            return
        prefs = services.resident_languages

        def apply(language: str) -> None:
            if self.lookup is not None and self.lookup.found and self.lookup.person.id == person_id \
                    and language != self.resident_language:
                self.set_resident_language(language)

        run_in_background(lambda: prefs.get(person_id), apply, lambda exc: None, owner=self)
