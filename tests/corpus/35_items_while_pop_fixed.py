# gilsafe corpus 35: iteration (fixed)
import threading

connections = {"a": 1, "b": 2}
connections_lock = threading.Lock()

def close(name):
    with connections_lock:
        connections.pop(name, None)

def heartbeat():
    with connections_lock:
        for name, conn in connections.items():
            print(name, conn)

threading.Thread(target=close, args=("a",)).start()
threading.Thread(target=heartbeat).start()
