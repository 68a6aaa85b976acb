# gilsafe corpus 48: tensor (racy)
import threading
import torch

grad = torch.zeros(1_000_000)

def backward(g):
    grad.add_(g)  # expect: GS303

for _ in range(2):
    threading.Thread(target=backward, args=(torch.ones(1_000_000),)).start()
