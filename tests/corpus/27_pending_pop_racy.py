# gilsafe corpus 27: module state (racy)
from concurrent.futures import ThreadPoolExecutor

pending = {"job-1": "payload"}

def claim(job_id):
    return pending.pop(job_id, None)  # expect: GS102

with ThreadPoolExecutor() as pool:
    pool.map(claim, ["job-1", "job-1"])
