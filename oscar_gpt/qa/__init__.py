"""Shopper Q&A: questions answered only from the shop's own facts, with the evidence shown."""
