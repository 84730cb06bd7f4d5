"""The machine the app runs on: data paths, the OS key store, logging, run mode, encryption of files at rest, the workstation's identity, key recovery."""
