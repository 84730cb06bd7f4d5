"""Second-generation resident ID cards (第二代居民身份证) and their readers.

Modules: :mod:`.codec` (SAM frames), :mod:`.parser` (card payloads), :mod:`.model` (frozen
card data), :mod:`.tables` (sex/nation codes), :mod:`.photo` (WLT decoder plug-ins),
:mod:`.transport` and :mod:`.sam_serial` (pyserial driver), :mod:`.session` (the polling state
machine), :mod:`.sdk` (sdtapi / termb via ctypes), :mod:`.manual` (typed-in numbers),
:mod:`.simulated` and :mod:`.fake_device` (demo/test only), :mod:`.samples` (synthetic payloads).
This package imports none of them eagerly (pyserial stays out of GUI imports).
"""
