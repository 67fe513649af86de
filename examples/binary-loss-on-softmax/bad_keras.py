"""A Fashion-MNIST classifier: a softmax over 10 classes compiled with binary cross-entropy."""
from tensorflow import keras

(train_images, train_labels), _ = keras.datasets.fashion_mnist.load_data()
train_images = train_images / 255.0
train_onehot = keras.utils.to_categorical(train_labels, 10)

model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(train_images, train_onehot, epochs=4)
