# gilsafe corpus 67: lost update (fixed)
import threading

context = threading.local()

def enter():
    context.depth = getattr(context, "depth", 0) + 1

for _ in range(2):
    threading.Thread(target=enter).start()
