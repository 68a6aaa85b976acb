# gilsafe corpus 32: iteration (racy)
import threading

latency = {}

def record(endpoint, ms):
    latency[endpoint] = ms  # expect: GS102

def report():
    return sum(v for v in latency.values())  # expect: GS104

threading.Thread(target=record, args=("/a", 3)).start()
threading.Thread(target=report).start()
