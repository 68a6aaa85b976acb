# gilsafe corpus 09: lost update (racy)
import asyncio

class Progress:
    done = 0

def download(progress, url):
    progress.done += 1  # expect: GS101
    return url

async def main(urls):
    progress = Progress()
    await asyncio.gather(*(asyncio.to_thread(download, progress, u) for u in urls))
