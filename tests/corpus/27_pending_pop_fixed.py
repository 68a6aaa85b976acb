# gilsafe corpus 27: module state (fixed)
import threading
from concurrent.futures import ThreadPoolExecutor

pending = {"job-1": "payload"}
pending_lock = threading.Lock()

def claim(job_id):
    with pending_lock:
        return pending.pop(job_id, None)

with ThreadPoolExecutor() as pool:
    pool.map(claim, ["job-1", "job-1"])
