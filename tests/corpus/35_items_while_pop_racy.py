# gilsafe corpus 35: iteration (racy)
import threading

connections = {"a": 1, "b": 2}

def close(name):
    connections.pop(name, None)  # expect: GS102

def heartbeat():
    for name, conn in connections.items():  # expect: GS104
        print(name, conn)

threading.Thread(target=close, args=("a",)).start()
threading.Thread(target=heartbeat).start()
