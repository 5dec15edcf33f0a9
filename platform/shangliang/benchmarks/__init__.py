"""Benchmarking (对标): rollups per tenant and period, rankings, published rankings, pages and files."""
