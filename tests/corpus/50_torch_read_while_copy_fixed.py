# gilsafe corpus 50: tensor (fixed)
import threading
import torch

state = torch.zeros(4096)
state_lock = threading.Lock()

def writer():
    with state_lock:
        state.copy_(torch.ones(4096))

def reader():
    with state_lock:
        return state.sum()

threading.Thread(target=writer).start()
threading.Thread(target=reader).start()
