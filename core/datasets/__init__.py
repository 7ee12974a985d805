"""Datasets: placeholder until the datasets module lands."""
