"""Printing layer (Qt-free; the only package that imports reportlab).

- :mod:`desktop.printing.data` — frozen inputs: ``BureauInfo``, ``FormData``, ``AddressLabel``,
  ``LabelSheet``, ``ReceiptData``, ``EntitlementLine``, ``Resumption``, ``BatchResult``;
- :mod:`desktop.printing.assist_form` — ``render_forms`` (batch → one PDF, progress, cancel),
  ``render_form``, ``form_pdf_bytes``, ``render_labels``, ``label_for``, ``return_label``;
- :mod:`desktop.printing.receipt` — ``render_receipt``, ``receipt_pdf_bytes``;
- :mod:`desktop.printing.fonts` — ``register_cjk_font`` (raises ``FontNotFound`` in Chinese).
"""
