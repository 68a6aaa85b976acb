# gilsafe corpus 50: tensor (racy)
import threading
import torch

state = torch.zeros(4096)

def writer():
    state.copy_(torch.ones(4096))  # expect: GS303

def reader():
    return state.sum()  # expect: GS303

threading.Thread(target=writer).start()
threading.Thread(target=reader).start()
