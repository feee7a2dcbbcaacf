from audio_worker.main import main

main()
