"""Mapping profiles (data, not code) for client CSV/XLSX/fixed-width layouts: next issue."""
