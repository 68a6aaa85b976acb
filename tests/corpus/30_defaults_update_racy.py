# gilsafe corpus 30: module state (racy)
import threading

DEFAULTS = {"retries": 3}

def apply_overrides(overrides):
    DEFAULTS.update(overrides)  # expect: GS102

threading.Thread(target=apply_overrides, args=({"retries": 5},)).start()
