"""Files in and out: spreadsheets read (bounded) and written (formula-safe), column mapping, signed QR payloads, QR scanning, the roster file's rows validated."""
