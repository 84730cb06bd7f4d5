"""Device drivers (ID-card readers, cameras): Qt-free, each device on its own I/O thread.

Importing this package is cheap on purpose: drivers that need pyserial or a vendor library are
imported by name from :mod:`desktop.devices.registry` only when they are built, so the GUI and the
headless CLI never pay for (or depend on) a driver they do not use.
"""
