# gilsafe corpus 39: numpy accumulator (fixed)
import threading
import numpy as np

frame = np.empty(640 * 480)
frame_lock = threading.Lock()

def capture(data):
    with frame_lock:
        np.copyto(frame, data)

threading.Thread(target=capture, args=(np.ones(640 * 480),)).start()
threading.Thread(target=capture, args=(np.zeros(640 * 480),)).start()
