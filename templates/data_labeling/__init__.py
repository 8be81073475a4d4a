"""Data labeling: a Ground Truth private work team of the account's labelers and job set-up."""
