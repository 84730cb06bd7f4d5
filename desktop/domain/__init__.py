"""Pure rules of the bureau's business: the certification clock, months, the payment ledger and payroll answer, ID numbers, cohorts' labels, permissions."""
