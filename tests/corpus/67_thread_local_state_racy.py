# gilsafe corpus 67: lost update (racy)
import threading

class Context:
    depth = 0

context = Context()

def enter():
    context.depth += 1  # expect: GS101

for _ in range(2):
    threading.Thread(target=enter).start()
