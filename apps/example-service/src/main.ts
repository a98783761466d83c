import { createExampleApp } from './app.js';

await createExampleApp().run();
