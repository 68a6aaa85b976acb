# gilsafe corpus 20: check-then-act (fixed)
import threading

sessions = {}

def session_for(user):
    return sessions.setdefault(user, {"user": user})

threading.Thread(target=session_for, args=("ann",)).start()
