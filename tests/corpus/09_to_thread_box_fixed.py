# gilsafe corpus 09: lost update (fixed)
import asyncio

class Progress:
    done = 0

def download(url):
    return url

async def main(urls):
    progress = Progress()
    for result in await asyncio.gather(*(asyncio.to_thread(download, u) for u in urls)):
        progress.done += 1
