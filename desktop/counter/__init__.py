"""The counter's use case, Qt-free: from the card on the reader to the printed receipt.

Read in this order (docs/architecture.md walks through it with the file at each step):

* :mod:`desktop.counter.flow` — :class:`CounterFlow`: the states and rules of serving one resident
  (card read → person → face check or staff attestation → record → receipt), commands in, events out;
* :mod:`desktop.services.counter` — :class:`CounterService`: lookup, certify (one transaction with
  its evidence, audit, outbox and outcome), today's figures, the receipt's data;
* :mod:`desktop.services.resumptions` — the one resumption rule (what certifying resumes);
* :mod:`desktop.counter.station` — reader, camera, face engine, printer from settings and registries;
* :mod:`desktop.counter.receipt` — the receipt PDF;
* :mod:`desktop.counter.headless` — the flow driven without a window (tests, scripts).

The window (``ui/pages/counter.py``) is a view of the flow; so is the drill through it.
"""
