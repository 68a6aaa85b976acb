# gilsafe corpus 49: tensor (racy)
import threading
import cupy as cp

hist = cp.zeros(256)

def update(values):
    global hist
    hist += values  # expect: GS303

for _ in range(2):
    threading.Thread(target=update, args=(cp.ones(256),)).start()
