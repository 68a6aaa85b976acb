# gilsafe corpus 49: tensor (fixed)
import threading
import cupy as cp

def update(values):
    local = cp.zeros(256)
    local += values
    return local

for _ in range(2):
    threading.Thread(target=update, args=(cp.ones(256),)).start()
