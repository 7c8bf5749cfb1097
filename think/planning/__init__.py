"""Planning: a budget turned into a plan under a profile (budget), and the seconds a plan
should take on this machine (predict)."""
