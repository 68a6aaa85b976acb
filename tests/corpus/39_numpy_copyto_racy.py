# gilsafe corpus 39: numpy accumulator (racy)
import threading
import numpy as np

frame = np.empty(640 * 480)

def capture(data):
    np.copyto(frame, data)  # expect: GS301

threading.Thread(target=capture, args=(np.ones(640 * 480),)).start()
threading.Thread(target=capture, args=(np.zeros(640 * 480),)).start()
