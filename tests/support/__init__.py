"""Harnesses the tests (and scripts/) share: loopback servers, a pty runner, error checks."""
