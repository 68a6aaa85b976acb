# gilsafe corpus 20: check-then-act (racy)
import threading

sessions = {}

def session_for(user):
    if sessions.get(user) is None:  # expect: GS103
        sessions[user] = {"user": user}
    return sessions[user]

for _ in range(2):
    threading.Thread(target=session_for, args=("ann",)).start()
