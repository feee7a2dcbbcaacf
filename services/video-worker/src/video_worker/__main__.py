from video_worker.main import main

main()
