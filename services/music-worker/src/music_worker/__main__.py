from music_worker.main import main

main()
