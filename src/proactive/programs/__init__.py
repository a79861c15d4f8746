"""Programs and cases: the catalog in jobs/, ages, eligibility, verification checks, detection, the
case state machine, review."""
