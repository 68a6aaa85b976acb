# gilsafe corpus 26: module state (racy)
import threading

current_settings = {"mode": "a"}

def reload(new):
    global current_settings
    current_settings = new  # expect: GS102

threading.Thread(target=reload, args=({"mode": "b"},)).start()
