# gilsafe corpus 20: check-then-act (fixed)
import threading

sessions = {}

def session_for(user):
    return sessions.setdefault(user, {"user": user})

for _ in range(2):
    threading.Thread(target=session_for, args=("ann",)).start()
