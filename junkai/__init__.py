"""Junkai (巡回): 巡回連絡 records for a prefectural police."""
