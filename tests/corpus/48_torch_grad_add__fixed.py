# gilsafe corpus 48: tensor (fixed)
import threading
import torch

grad = torch.zeros(1_000_000)
grad_lock = threading.Lock()

def backward(g):
    with grad_lock:
        grad.add_(g)

for _ in range(2):
    threading.Thread(target=backward, args=(torch.ones(1_000_000),)).start()
