# gilsafe corpus 30: module state (fixed)
import threading

DEFAULTS = {"retries": 3}

def apply_overrides(overrides):
    merged = dict(DEFAULTS)
    merged.update(overrides)
    return merged

threading.Thread(target=apply_overrides, args=({"retries": 5},)).start()
