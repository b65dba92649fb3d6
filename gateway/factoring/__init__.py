"""Business rules of factoring: eligibility, approvals, remittances. Pure functions."""
