from image_worker.main import main

main()
