"""Prints repr() of every process_event dict but the attr bytes (compared with perf's)."""


def process_event(param_dict):
    print(repr({k: v for k, v in param_dict.items() if k != "attr"}))
