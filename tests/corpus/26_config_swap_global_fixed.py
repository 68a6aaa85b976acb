# gilsafe corpus 26: module state (fixed)
import threading

current_settings = {"mode": "a"}
settings_lock = threading.Lock()

def reload(new):
    global current_settings
    with settings_lock:
        current_settings = new

threading.Thread(target=reload, args=({"mode": "b"},)).start()
